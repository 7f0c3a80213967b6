import { describeShippingFaults } from './shipping-faults.js';

// 200 shipments keep the suite quick; shipping-faults.chaos.test.ts runs the full 500.
describeShippingFaults(200, 18260);
