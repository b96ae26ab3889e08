// Runs loyalty.tick(now) every `seconds`. tick() only touches due accounts (an index) and
// locks each with SKIP LOCKED, so several server processes may run this side by side.
// Runs never overlap: the next one is scheduled when the previous one ends.

/** @returns {{stop: () => Promise<void>, runNow: () => Promise<object>}} */
export function startScheduler({ loyalty, seconds, log = console, now = () => new Date() }) {
  let timer = null;
  let running = null;
  let stopped = false;

  async function runNow() {
    const summary = await loyalty.tick(now());
    if (summary.ticked || summary.errors.length) log.info?.({ tick: summary }, 'tick');
    return summary;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runNow()
        .catch((err) => log.error?.({ err }, 'tick failed'))
        .finally(() => { running = null; schedule(); });
    }, seconds * 1000);
    timer.unref?.();
  }

  if (seconds > 0) schedule();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
