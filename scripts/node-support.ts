/**
 * Node.js versions, for the local commands.
 *
 * The project runs on Node.js ^20.19.0 || >=22.12.0 (package.json `engines`: mocha 12 needs 20.19 or 22.12,
 * the AWS SDK v3 and @pulumi/pulumi need 20). On Node 20 the AWS SDK prints a NodeVersionSupportWarning,
 * nine lines on every command, once per process: "versions published after the first week of January 2027
 * will require node >=22". It concerns SDK releases this project does not install (package-lock.json pins
 * one that supports Node 20) and there is nothing to do about it per command, so the local commands turn it
 * off with the SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true, read by
 * @aws-sdk/core when a client is created) and `npm start` says it once, in one line, in its banner.
 * The switch is the SDK maintainers' documented way for those who cannot upgrade yet ("January 2027: End
 * of Support for Node.js 20.x in AWS SDK for JavaScript", https://github.com/aws/aws-sdk-js-v3/issues/7983);
 * @aws-sdk/core reads it as `=== "true"`. Set it to false to see the SDK's warning again.
 * Lambda functions are untouched: they run on the newest Node.js runtime @pulumi/aws offers.
 */

export const SdkNodeWarningSwitch = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/** Turn the SDK's Node version warning off for this process and its children, unless the user chose. */
export function quietSdkNodeWarning(env: NodeJS.ProcessEnv = process.env): void {
    env[SdkNodeWarningSwitch] ??= "true";
}

/** One line for the `npm start` banner on Node < 22, else undefined. */
export function nodeSupportNote(version: string = process.version): string | undefined {
    const major = Number(/^v(\d+)/.exec(version)?.[1]);
    if (!(major < 22)) return undefined;
    return `Node.js ${version}: supported; AWS SDK releases after the first week of January 2027 need Node.js 22 (the lockfile pins one that runs on 20; ${SdkNodeWarningSwitch}=false shows the SDK's warning)`;
}
