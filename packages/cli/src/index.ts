// Public API of @splitnet/cli (the command logic that is not tied to argv).
export { rssLookup, formatRssLookup } from './rss-command.js';
