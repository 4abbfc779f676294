/** `dynalog acls …` and `dynalog api-keys …`: the security admin commands (need Cluster Alter). */
import type { Command } from "commander";
import type { AclRule, Dynalog } from "../../client/index.js";
import { printJson, printTable } from "../output.js";

export function registerSecurityCommands(program: Command, client: () => Dynalog): void {
  const acls = program.command("acls").description("list, add and delete ACL rules (needs Cluster Alter)");
  acls
    .command("list")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const rules = await client().admin().describeAcls();
      if (opts.json) return printJson(rules);
      printTable(
        ["ID", "PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE"],
        rules.map((r) => [r.id, r.principal, r.permission ?? "Allow", r.operation, `${r.resourceType}:${r.patternType === "PREFIXED" ? `${r.resourceName}*` : r.resourceName}`]),
      );
    });
  acls
    .command("add")
    .description("allow (or --deny) a principal an operation on a resource")
    .requiredOption("--principal <principal>", 'e.g. User:alice, IAM:arn:…, or "*"')
    .requiredOption("--resource-type <type>", "Topic, Group, TransactionalId or Cluster")
    .requiredOption("--resource <name>", 'resource name ("*" = all; "dynalog" for the cluster)')
    .requiredOption("--operation <op>", "Read, Write, Create, Delete, Describe, Alter, IdempotentWrite or All")
    .option("--prefixed", "match names starting with --resource")
    .option("--deny", "a deny rule (deny wins over allow)")
    .action(async (opts: { principal: string; resourceType: string; resource: string; operation: string; prefixed?: boolean; deny?: boolean }) => {
      const [rule] = await client().admin().createAcls({
        acls: [
          {
            principal: opts.principal,
            resourceType: opts.resourceType as AclRule["resourceType"],
            resourceName: opts.resource,
            operation: opts.operation as AclRule["operation"],
            patternType: opts.prefixed ? "PREFIXED" : "LITERAL",
            permission: opts.deny ? "Deny" : "Allow",
          },
        ],
      });
      process.stdout.write(`Added ACL ${rule!.id}\n`);
    });
  acls
    .command("delete <id...>")
    .action(async (ids: string[]) => {
      await client().admin().deleteAcls({ ids });
      process.stdout.write(`Deleted ${ids.length} ACL rule(s)\n`);
    });

  const keys = program.command("api-keys").description("issue, list and revoke API keys (needs Cluster Alter)");
  keys
    .command("create <principal>")
    .description("issue a key for a principal (User:<name>); the token is shown once")
    .option("--description <text>", "a note kept with the key")
    .action(async (principal: string, opts: { description?: string }) => {
      const key = await client().admin().createApiKey({ principal, description: opts.description });
      process.stdout.write(`${key.token}\n`);
      process.stderr.write(`Key ${key.keyId} for ${key.principal}: store the token now, it is not shown again.\n`);
    });
  keys
    .command("list")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const list = await client().admin().listApiKeys();
      if (opts.json) return printJson(list);
      printTable(["KEY", "PRINCIPAL", "CREATED", "REVOKED", "DESCRIPTION"], list.map((k) => [k.keyId, k.principal, k.createdAt, k.revokedAt ?? "-", k.description]));
    });
  keys
    .command("revoke <keyId>")
    .action(async (keyId: string) => {
      await client().admin().revokeApiKey(keyId);
      process.stdout.write(`Revoked ${keyId}\n`);
    });
}
