// A user who logs in at gatehouse through the real browser, then logs out at the
// provider itself (not at gatehouse), which then tells gatehouse by back-channel
// logout. Opens $START (behind gatehouse), fills the login form as $LOGIN, lands back,
// prints `COOKIE <value of $COOKIE>`, waits for a line on stdin, then opens the
// provider's end-session page ($ISSUER/session/end) and confirms. Prints one JSON line:
// where the browser ended and whether $START still opens without a new login.
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const env = process.env;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const out = {};
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  await page.goto(env.START);
  await page.fill('input[name=login]', env.LOGIN);
  await page.fill('input[name=password]', 'any');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (page.url().includes('/interaction/')) {
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  }
  await page.waitForURL((u) => u.toString().startsWith(env.ORIGIN) && !u.pathname.startsWith('/.gatehouse/'));
  out.landed = page.url();
  const c = (await context.cookies()).find((x) => x.name === env.COOKIE);
  console.log(`COOKIE ${c ? c.value : ''}`);
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((resolve) => rl.once('line', resolve));
  rl.close();
  await page.goto(`${env.ISSUER}/session/end`);
  await Promise.all([page.waitForNavigation(), page.click('button[autofocus]')]);
  out.after_logout = page.url();
  const again = await context.newPage();
  await again.goto(env.START);
  out.start_after_logout = again.url();
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
