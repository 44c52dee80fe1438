// The real browser the OIDC tests drive (Debian's chromium through playwright-core),
// shared by login.mjs and op_logout.mjs: a run that prints one JSON object, and the
// login at gatehouse through the provider's form.
import { chromium } from 'playwright-core';

// Runs `body(context, out)` in a fresh browser context that reaches loopback only, then
// prints `out` as one JSON line (with `error` when something failed).
export async function run(body) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const out = {};
  try {
    const context = await browser.newContext();
    // No internet here: anything not on loopback (the dev login page's web fonts) fails
    // at once instead of waiting.
    await context.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === '127.0.0.1' ? route.continue() : route.abort();
    });
    await body(context, out);
  } catch (e) {
    out.error = String(e && e.stack || e);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

// Opens `env.START` (a protected page behind gatehouse) on `page`, fills the provider's
// login form as `env.LOGIN`, accepts the consent page (the first time), and waits to
// land back on `env.ORIGIN`. Returns the login page's URL.
export async function login(page, env) {
  await page.goto(env.START);
  const loginPage = page.url();
  await page.fill('input[name=login]', env.LOGIN);
  await page.fill('input[name=password]', 'any');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (page.url().includes('/interaction/')) {
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  }
  await page.waitForURL((u) => u.toString().startsWith(env.ORIGIN) && !u.pathname.startsWith('/.gatehouse/'));
  return loginPage;
}
