// onnxruntime-node builds its output tensors with the host's typed arrays, while jest runs each
// test file in its own realm, where `instanceof Float32Array` then fails. Tests that run ONNX
// graphs use this environment, which hands the test realm the host's typed array classes.
const { TestEnvironment } = require('jest-environment-node');

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of ['Float32Array', 'Float64Array', 'Int32Array', 'BigInt64Array', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'BigUint64Array', 'ArrayBuffer']) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OnnxEnvironment;
