export { WebhookPipeline } from "./webhook-pipeline";
export { FunctionPackages } from "./packages";
export type { WebhookPipelineArgs, ProviderDefinition } from "./webhook-pipeline";
export { loadStackConfig, readStackConfig } from "./stack-config";
