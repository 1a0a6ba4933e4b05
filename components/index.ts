export { WebhookPipeline } from "./webhook-pipeline";
export { FunctionPackages } from "./packages";
export type { WebhookPipelineArgs, ProviderDefinition } from "./webhook-pipeline";
export { loadStackConfig } from "./stack-config";
