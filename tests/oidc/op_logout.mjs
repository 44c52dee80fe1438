// A user who logs in at gatehouse through the real browser, then logs out at the
// provider itself (not at gatehouse), which then tells gatehouse by back-channel
// logout. Opens $START (behind gatehouse), fills the login form as $LOGIN, lands back,
// prints `COOKIE <value of $COOKIE>`, waits for a line on stdin, then opens the
// provider's end-session page ($ISSUER/session/end) and confirms. Prints one JSON line:
// where the browser ended and whether $START still opens without a new login.
import readline from 'node:readline';
import { login, run } from './browser.mjs';

const env = process.env;
await run(async (context, out) => {
  const page = await context.newPage();
  await login(page, env);
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
});
