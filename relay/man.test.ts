// phantom-relay(1) lists every option and variable of relay/options.ts OPTIONS.
import { expect, test } from "bun:test";
import { roffText } from "../lib/roff.ts";
import { OPTIONS } from "./options.ts";
import { relayManPage } from "./man.ts";

test("phantom-relay(1): structure, every flag and variable with its default", () => {
  const page = relayManPage("9.9.9");
  expect(page).toStartWith('.TH "PHANTOM\\-RELAY" 1 "" "phantom\\-relay 9.9.9"');
  for (const s of ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "LIMITS", "ENVIRONMENT"]) {
    expect(page).toContain(`\n.SH ${s}\n`);
  }
  expect(OPTIONS.length).toBeGreaterThan(10);
  for (const o of OPTIONS) {
    expect(page).toContain(roffText(o.env));
    if (o.flag !== undefined) expect(page).toContain(`\\fB${roffText(o.flag)} \\fR`);
    if (o.shown !== undefined) expect(page).toContain(roffText(`default ${o.shown}`));
  }
  for (const f of ["--version", "--help"]) expect(page).toContain(roffText(f));
});
