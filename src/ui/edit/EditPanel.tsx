/**
 * Edit with the model (issue 21): draw, pick or upload a digit, then SDEdit it, inpaint it or
 * interpolate, in pixel and in latent space.
 */
export function EditPanel() {
  return (
    <section className="panel" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
    </section>
  );
}
