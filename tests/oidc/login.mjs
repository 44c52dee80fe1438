// Drives a real browser (Debian's chromium through playwright-core) through a login at
// gatehouse: opens $START (a protected page behind gatehouse), fills the provider's
// login form as $LOGIN, accepts the consent page, and lands back. Then visits each URL
// of $VISITS (comma-separated), reads the session cookie $COOKIE, opens $LOGOUT, and
// opens $START again. Prints one JSON object: the landing page (url, status, body),
// each visit's status, the cookie value, and where $START leads after logout.
import { login, run } from './browser.mjs';

const env = process.env;
await run(async (context, out) => {
  const page = await context.newPage();
  out.login_page = await login(page, env);
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
});
