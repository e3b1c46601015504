#!/usr/bin/env node
// Drive a real browser (Debian's chromium through playwright-core) through an SSO page flow and
// capture what the IdP's auto-submitting form posts to the app.
//
// Usage: node node/browser_sso.js --url URL --acs-prefix PREFIX [--username U --password P]
//            [--click-tile NAME] [--screenshot FILE]
//
// Opens URL; when a sign-in form (fields username/password) appears, fills it and submits; with
// --click-tile, clicks the My Apps tile named NAME. Requests to PREFIX (the app's side, which does
// not exist here) are intercepted: the first POST there is captured and answered with a blank
// page. Any Content-Security-Policy violation or page error fails the run: the auto-submit must
// work under the IdP's strict CSP in a real browser. Prints
// {"acs":"<posted URL>","SAMLResponse":"…","RelayState":"…"|null}.
// Exit: 0 captured, 1 no POST reached PREFIX (reason on stderr), 2 usage error.
"use strict";

const { parseArgs } = require("node:util");
const { chromium } = require("playwright-core");

const USAGE =
  "node browser_sso.js --url URL --acs-prefix PREFIX [--username U --password P] [--click-tile NAME] [--screenshot FILE]";

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: "string" },
        "acs-prefix": { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        "click-tile": { type: "string" },
        screenshot: { type: "string" },
      },
      strict: true,
    }));
    if (!values.url || !values["acs-prefix"]) throw new Error("--url and --acs-prefix are required");
  } catch (e) {
    process.stderr.write(`usage: ${USAGE}\nusage error: ${e.message}\n`);
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const problems = [];
  try {
    const page = await browser.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    let resolveCapture;
    const captured = new Promise((r) => (resolveCapture = r));
    await page.route(`${values["acs-prefix"]}**`, async (route) => {
      const req = route.request();
      if (req.method() === "POST") {
        resolveCapture({ url: req.url(), body: req.postData() || "" });
      }
      await route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>app</title>ok" });
    });
    await page.goto(values.url);
    if (values.username !== undefined && (await page.locator('input[name="username"]').count()) > 0) {
      await page.fill('input[name="username"]', values.username);
      await page.fill('input[name="password"]', values.password || "");
      await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
    }
    if (values["click-tile"]) {
      await page.getByRole("link", { name: values["click-tile"] }).click();
    }
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no POST reached the app within 15 s")), 15000));
    const post = await Promise.race([captured, timeout]);
    if (values.screenshot) {
      // The captured POST is a navigation: chromium cannot capture a page that is still being
      // replaced ("Unable to capture screenshot"), so wait for the new page and retry a few times.
      await page.waitForLoadState("load").catch(() => {});
      await screenshotWithRetry(page, values.screenshot);
    }
    if (problems.length) throw new Error(problems.join("; "));
    const form = new URLSearchParams(post.body);
    process.stdout.write(
      JSON.stringify({ acs: post.url, SAMLResponse: form.get("SAMLResponse"), RelayState: form.get("RelayState") }) + "\n",
    );
  } finally {
    await browser.close();
  }
}

async function screenshotWithRetry(page, path) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path });
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

main().catch((e) => {
  process.stderr.write(`browser_sso: ${String(e.message || e).split("\n")[0]}\n`);
  process.exit(1);
});
