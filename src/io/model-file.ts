/** A model as files: model.json (configuration + weights manifest) and weights.bin, per part. */
export interface ModelFile {
  name: string;
  data: ArrayBuffer;
}
