#!/usr/bin/env node
// Drive a real browser (Debian's chromium through playwright-core) through a representative's
// console session: sign in through the identity provider (SAML), open a jump item, pick the
// credential the brokers offer, run a command in the web terminal and leave.
//
// Usage: node node/browser_console.js --url CONSOLE_URL --provider NAME --username U --password P
//            --item NAME --credential DISPLAY_NAME --command CMD --expect TEXT [--shots DIR]
//
// Prints JSON: {offers: [display names], session: URL, seen: true} on success. Any page error or
// Content-Security-Policy violation fails the run. Screenshots of every step go to --shots.

const { parseArgs } = require("node:util");
const path = require("node:path");
const { chromium } = require("playwright-core");

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      provider: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      item: { type: "string" },
      credential: { type: "string" },
      command: { type: "string" },
      expect: { type: "string" },
      shots: { type: "string" },
    },
    strict: true,
  });
  for (const k of ["url", "provider", "username", "password", "item", "credential", "command", "expect"]) {
    if (!values[k]) throw new Error(`--${k} is required`);
  }
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const problems = [];
  let step = 0;
  const shot = async (page, name) => {
    if (!values.shots) return;
    step += 1;
    await page.waitForLoadState("load").catch(() => {});
    await page.screenshot({ path: path.join(values.shots, `${String(step).padStart(2, "0")}-${name}.png`) }).catch(() => {});
  };
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    await page.goto(values.url);
    await shot(page, "console-sign-in");
    await page.getByRole("link", { name: `Sign in with ${values.provider}` }).click();
    await page.waitForSelector('input[name="username"]');
    await shot(page, "idp-sign-in");
    await page.fill('input[name="username"]', values.username);
    await page.fill('input[name="password"]', values.password);
    await page.click('button[type="submit"]');
    // The IdP's auto-submitting form posts to the console's ACS, which lands on the items.
    await page.waitForURL(/\/console\/?$/, { timeout: 20000 });
    await shot(page, "jump-items");
    await page.getByRole("link", { name: values.item, exact: true }).click();
    await page.waitForURL(/\/console\/items\//);
    await shot(page, "credential-offers");
    const offers = await page.locator("button", { hasText: "Log in as " }).allTextContents();
    await page.getByRole("button", { name: `Log in as ${values.credential}`, exact: true }).click();
    await page.waitForURL(/\/console\/sessions\//);
    const session = page.url();
    const screenHas = (text) =>
      page.waitForFunction(
        (t) => (document.querySelector("#terminal .xterm-rows")?.textContent || "").includes(t),
        text,
        { timeout: 30000 },
      );
    await screenHas("$");
    await page.click("#terminal");
    await page.keyboard.type(`${values.command}\n`);
    await screenHas(values.expect);
    await shot(page, "terminal");
    await page.keyboard.type("exit\n");
    await page.waitForFunction(
      () => !/Connecting|Connected/i.test(document.querySelector("#terminal-status")?.textContent || "Connected"),
      null,
      { timeout: 30000 },
    );
    await shot(page, "session-ended");
    if (problems.length) throw new Error(problems.join("; "));
    process.stdout.write(JSON.stringify({ offers: offers.map((o) => o.trim()), session, seen: true }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  process.stderr.write(`browser_console: ${String(e.message || e).split("\n")[0]}\n`);
  process.exit(1);
});
