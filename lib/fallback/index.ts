// The pure-TypeScript backend: float64 arithmetic, exact to SPEC section 5 on every platform.
export { forward } from './forward.js';
export { backward } from './backward.js';
