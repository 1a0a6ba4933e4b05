export { WebhookPipeline, FunctionPackages } from "./webhook-pipeline";
export type { WebhookPipelineArgs, ProviderDefinition } from "./webhook-pipeline";
export { loadStackConfig } from "./stack-config";
