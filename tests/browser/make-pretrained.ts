/**
 * Writes the test stand-ins for the pretrained models (tests/unit/pretrained-fixture.ts) into the
 * folder given as the argument: <dir>/pixel/ and <dir>/latent/, each model.json + weights.bin +
 * manifest.json. The browser tests run it once (npx tsx) and serve the files with page.route.
 */
import { writePretrainedFixture } from '../unit/pretrained-fixture';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: tsx tests/browser/make-pretrained.ts OUT_DIR');
  process.exit(2);
}
await writePretrainedFixture(dir);
console.log(`wrote pretrained test models to ${dir}`);
