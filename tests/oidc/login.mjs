// Drives a real browser (Debian's chromium through playwright-core) through a login at
// gatehouse: opens $START (a protected page behind gatehouse), fills the provider's
// login form as $LOGIN, accepts the consent page, and lands back. Then visits each URL
// of $VISITS (comma-separated), reads the session cookie $COOKIE, opens $LOGOUT, and
// opens $START again. Prints one JSON object: the landing page (url, status, body),
// each visit's status, the cookie value, and where $START leads after logout.
import { chromium } from 'playwright-core';

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
  // No internet here: anything not on loopback (the dev login page's web fonts) fails
  // at once instead of waiting.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  await page.goto(env.START);
  out.login_page = page.url();
  await page.fill('input[name=login]', env.LOGIN);
  await page.fill('input[name=password]', 'any');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  // The consent page, the first time.
  if (page.url().includes('/interaction/')) {
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  }
  await page.waitForURL((u) => u.toString().startsWith(env.ORIGIN) && !u.pathname.startsWith('/.gatehouse/'));
  out.landed = page.url();
  out.body = await page.textContent('body');
  out.visits = [];
  for (const url of (env.VISITS || '').split(',').filter(Boolean)) {
    const r = await page.goto(url);
    out.visits.push({ url, status: r.status() });
  }
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === env.COOKIE);
  out.cookie = c ? c.value : null;
  out.cookie_flags = c ? { httpOnly: c.httpOnly, sameSite: c.sameSite, secure: c.secure } : null;
  await page.goto(env.LOGOUT);
  out.after_logout = page.url();
  // The provider's end-session page asks for confirmation.
  if (page.url().includes('/session/end')) {
    await Promise.all([page.waitForNavigation(), page.click('button[autofocus]')]);
  }
  const again = await context.newPage();
  await again.goto(env.START);
  out.start_after_logout = again.url();
  if (env.SCREENSHOT) {
    await page.screenshot({ path: env.SCREENSHOT });
  }
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
