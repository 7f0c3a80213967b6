import { describeShippingFaults } from './shipping-faults.js';

// The figure: 500 shipments, 100 cancels, a carrier losing 30 % of its answers, three SIGKILLs.
describeShippingFaults(500, 18265);
