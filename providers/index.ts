/**
 * Provider plugins: the built-in schemes and the generic `hmac` one.
 */
import { createHmacPlugin } from "./hmac";
import { github } from "./github";
import { razorpay } from "./razorpay";
import { shopify } from "./shopify";
import { slack } from "./slack";
import { standardWebhooks } from "./standard-webhooks";
import { stripe } from "./stripe";
import { twilio } from "./twilio";
import { HmacSchemeOptions, PluginName, ProviderPlugin } from "./types";

export * from "./types";
export { createHmacPlugin };

export type BuiltinPluginName = Exclude<PluginName, typeof PluginName.Hmac>;

export const builtinPlugins: Readonly<Record<BuiltinPluginName, ProviderPlugin>> = Object.freeze({
    [PluginName.Stripe]: stripe,
    [PluginName.GitHub]: github,
    [PluginName.Shopify]: shopify,
    [PluginName.Slack]: slack,
    [PluginName.Twilio]: twilio,
    [PluginName.Razorpay]: razorpay,
    [PluginName.StandardWebhooks]: standardWebhooks,
});

/** The plugin for a provider; `hmac` needs the scheme declared in config. */
export function getPlugin(name: PluginName, hmacOptions?: HmacSchemeOptions): ProviderPlugin {
    if (name === PluginName.Hmac) {
        if (!hmacOptions) throw new Error("plugin hmac needs signature options (signature.header, algorithm, encoding)");
        return createHmacPlugin(hmacOptions);
    }
    const plugin = (builtinPlugins as Record<string, ProviderPlugin | undefined>)[name];
    if (!plugin) throw new Error(`unknown plugin "${name}" (built-in: ${Object.keys(builtinPlugins).join(", ")}, hmac)`);
    return plugin;
}
