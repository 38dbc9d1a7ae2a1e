import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

/**
 * kafkajs ships only gzip. Node (22.15+, 24) has zstd built in, which compresses sensor batches
 * better than gzip at a fraction of the CPU, and every other team's client (Java, librdkafka,
 * confluent-kafka) reads it. Registered once, for producing and consuming.
 */
const compress = promisify(zlib.zstdCompress);
const decompress = promisify(zlib.zstdDecompress);

let registered = false;

export function registerZstd(): void {
  if (registered) return;
  const codec = {
    compress: (encoder: { buffer: Buffer }) => compress(encoder.buffer, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } }),
    decompress: (buffer: Buffer) => decompress(buffer),
  };
  (CompressionCodecs as Record<number, () => unknown>)[CompressionTypes.ZSTD] = () => codec;
  registered = true;
}

export type Compression = 'zstd' | 'gzip' | 'none';

export const compressionType = (compression: Compression): CompressionTypes =>
  compression === 'zstd' ? CompressionTypes.ZSTD : compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
