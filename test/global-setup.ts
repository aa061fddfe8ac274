/** Runs once before the test suite: builds fixtures that several test files share. */
export default async function setup(): Promise<void> {
  // Fixture builders register here as they are added (tiny ONNX models, DICOM corpus).
}
