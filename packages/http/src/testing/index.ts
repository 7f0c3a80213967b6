export { rawRequest, type RawAnswer } from './raw-request.js';
