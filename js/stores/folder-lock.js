// One process per PGlite data folder. PGlite is PostgreSQL in this process's memory: a
// second process on the same folder writes its own pages over the first's, and what one of
// them wrote is silently lost. The lock is a file beside the folder holding the owner's
// pid; a lock whose process is gone (a crash, SIGKILL) is taken over.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { LoyaltyError } from '../errors.js';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/** Takes the lock of `dataDir` or throws `folder_locked`; returns release(). */
export function lockFolder(dataDir) {
  const path = `${dataDir.replace(/\/+$/, '')}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try { unlinkSync(path); } catch { /* already gone */ }
      };
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new LoyaltyError('folder_locked', 'dataDir',
          `${dataDir} is in use by process ${pid}${pid === process.pid ? ' (this one)' : ''}: PGlite serves one process; stop it, or use PostgreSQL (DATABASE_URL) for several processes`);
      }
      try { unlinkSync(path); } catch { /* another taker won: retry */ }
    }
  }
  throw new LoyaltyError('folder_locked', 'dataDir', `${dataDir}: could not take its lock`);
}
