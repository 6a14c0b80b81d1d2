// Public API of @splitnet/scenario: load and compile scenario files, cost profiles, the unit helpers, and the scenario language's JSON Schema.
export type * from './types.js';
export { compileScenarioText, formatResolvedYaml, loadScenarioFile, MAX_SEED, type CompileOptions, type ScenarioValue } from './compile.js';
export { parseScenarioPath } from './overrides.js';
export { describeValue, formatPath, type Path, type PathSegment } from './issue.js';
export { parseYamlSource, type Position, type YamlSource } from './yaml-source.js';
export { listProfiles, loadCostProfile, type ProfileInfo } from './cost-profile.js';
export { formatDuration, formatRate, parseDuration, parseRate, type Rate } from './units.js';
export { checkFaultRequest, compileFaultItem, faultOccurrences, formatTarget, FAULT_RULES, type FaultOccurrence } from './faults.js';
export { formatScenarioSchema, scenarioJsonSchema } from './json-schema.js';
