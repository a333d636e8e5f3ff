import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A port that never completes a connection, as a firewall that drops packets does: a listening socket that
 * never accepts, its backlog filled, so the kernel drops every further SYN. (Node accepts every connection
 * itself, so a small Python process holds the socket.)
 */
export class BlackholePort {
  private child?: ChildProcess;

  async start(): Promise<number> {
    const script = [
      'import socket, sys, time',
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
      'port = s.getsockname()[1]; fill = []',
      'for _ in range(3):',
      '    c = socket.socket(); c.setblocking(False)',
      "    try: c.connect(('127.0.0.1', port))",
      '    except BlockingIOError: pass',
      '    fill.append(c)',
      'print(port, flush=True)',
      'sys.stdin.read()',
    ].join('\n');
    const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    const line = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      createInterface({ input: child.stdout! }).once('line', resolve);
    });
    return Number(line);
  }

  /** Ends the holder (it exits when its stdin closes) and waits for it. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end();
    await exited;
  }
}
