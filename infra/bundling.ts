/** NodejsFunction's bundling options, from the settings every bundle shares (infra/lambda-build.ts). */
import { OutputFormat, SourceMapMode, type BundlingOptions } from "aws-cdk-lib/aws-lambda-nodejs";
import { lambdaBuildSettings, type AwsSdkSource, type LambdaFunctionName } from "./lambda-build.js";

/** The same settings as NodejsFunction's bundling options (used by bench/bundles.ts through the construct). */
export function bundlingOptions(awsSdk: AwsSdkSource, fn: LambdaFunctionName): BundlingOptions {
  const settings = lambdaBuildSettings(awsSdk, fn);
  return {
    format: OutputFormat.ESM,
    target: settings.target,
    minify: settings.minify,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT, // "linked": a separate .map file, linked from the bundle
    sourcesContent: settings.sourcesContent,
    mainFields: [...settings.mainFields],
    banner: settings.banner,
    externalModules: [...settings.external],
    esbuildArgs: Object.fromEntries(Object.entries(settings.alias).map(([module, file]) => [`--alias:${module}`, file])),
  };
}
