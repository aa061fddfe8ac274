/** Every test file runs with Node's decoders installed, as the package's Node entries do. */
import '../src/io/platform-node.js';
