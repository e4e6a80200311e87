/** A stand-in for the engine's Worker in page tests: it records what the page sends and lets the test answer. */
import type { PageToWorker, WorkerToPage } from '../../src/protocol/messages';

export class FakeWorker {
  sent: PageToWorker[] = [];
  private listeners: ((ev: MessageEvent<WorkerToPage>) => void)[] = [];
  addEventListener(type: string, fn: (ev: MessageEvent<WorkerToPage>) => void): void {
    if (type === 'message') this.listeners.push(fn);
  }
  postMessage(msg: PageToWorker): void {
    this.sent.push(msg);
  }
  terminate(): void {}
  answer(msg: WorkerToPage): void {
    for (const fn of this.listeners) fn({ data: msg } as MessageEvent<WorkerToPage>);
  }
  /** The messages of one type sent so far. */
  sentOf<T extends PageToWorker['type']>(type: T): Extract<PageToWorker, { type: T }>[] {
    return this.sent.filter((m): m is Extract<PageToWorker, { type: T }> => m.type === type);
  }
  /** The last message of one type sent (it must have been sent). */
  last<T extends PageToWorker['type']>(type: T): Extract<PageToWorker, { type: T }> {
    const found = this.sentOf(type).at(-1);
    if (!found) throw new Error(`nothing of type ${type} was sent`);
    return found;
  }
  /** The types sent since `from` (an index into `sent`). */
  typesSince(from: number): string[] {
    return this.sent.slice(from).map((m) => m.type);
  }
}
