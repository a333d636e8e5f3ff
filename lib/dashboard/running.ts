// Where a running dashboard is: .run/dashboard.json while `spark-ts dashboard` serves (removed when it stops).
//   node -r ts-node/register/transpile-only lib/dashboard/running.ts   # prints one line for `make stream`
import fs from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from '../runtime/paths';
import { isRunning } from '../runtime/process';
import { readJson, writeJson } from '../util/json';

export const DASHBOARD_STATE_FILE = path.join(RUN_DIR, 'dashboard.json');

export interface DashboardRunState {
  pid: number;
  url: string;
  started_at: string;
}

export function writeDashboardState(s: DashboardRunState): void {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  writeJson(DASHBOARD_STATE_FILE, s, { mode: 0o600 });
}

/** Removes the state file if it is this process's (another dashboard may have replaced it). */
export function clearDashboardState(pid = process.pid): void {
  if (readJson<DashboardRunState>(DASHBOARD_STATE_FILE)?.pid === pid) fs.rmSync(DASHBOARD_STATE_FILE, { force: true });
}

/** The running dashboard, or undefined (no state file, or its process is gone). */
export function runningDashboard(): DashboardRunState | undefined {
  const s = readJson<DashboardRunState>(DASHBOARD_STATE_FILE);
  return s && isRunning(s.pid) ? s : undefined;
}

/** The line `make stream` opens with. */
export function dashboardLine(): string {
  const d = runningDashboard();
  return d
    ? `dashboard: ${d.url} shows this stream live in the browser`
    : 'dashboard: not running (`make dashboard` in another terminal shows the stream live in the browser)';
}

if (require.main === module) process.stdout.write(`${dashboardLine()}\n`);
