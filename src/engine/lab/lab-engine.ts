/**
 * The 2D lab's side of the engine (issue 17): its data set, MLP denoiser, training and sampling
 * runs, fields, densities and quality sweeps, answering the messages of src/protocol/lab-messages.ts.
 */
import type { LabToPage, LabToWorker } from '../../protocol/lab-messages';
import type { WorkerToPage } from '../../protocol/messages';

export class LabEngine {
  constructor(private readonly post: (message: WorkerToPage) => void) {}

  async handle(message: LabToWorker): Promise<void> {
    this.reply({ type: 'lab/error', message: `The 2D lab cannot answer "${message.type}" yet.` });
  }

  private reply(message: LabToPage): void {
    this.post(message);
  }

  async dispose(): Promise<void> {}
}
