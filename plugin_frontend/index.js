export async function render() {
  document.body.textContent = "nnviz";
}
