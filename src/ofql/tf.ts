/**
 * The single import point of the tensor engine for src/ofql. Every other OFQL module takes `tf`
 * from here, and nothing outside src/ofql touches tensors: the agent's public API speaks
 * Float32Arrays. Swapping the engine (or its package) therefore means editing this file,
 * tensor-backend.ts and the network/loss code in this folder only.
 *
 * `@tensorflow/tfjs` (not bare tfjs-core) is imported because it registers every kernel's
 * gradient and the cpu backend; tfjs-node(-gpu), when installed, shares this tfjs-core.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
