import { z } from 'zod';
import { CreateCustomerRequest, CreateOrderRequest } from './demo-routes.js';

const money = { type: 'object', properties: { amount: { type: 'string', example: '12.34' } }, required: ['amount'] };
const error = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
};
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': json(error, 'Invalid input'),
  '404': json(error, 'Unknown id'),
};
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'integer', minimum: 1 } });
const order = {
  type: 'object',
  properties: {
    orderId: { type: 'integer' },
    orderState: { type: 'string', enum: ['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED'] },
    rejectionReason: { type: 'string', nullable: true, enum: ['INSUFFICIENT_CREDIT', 'UNKNOWN_CUSTOMER', null] },
  },
};

/** The OpenAPI 3.0 document of the demo's public API (request bodies from the same zod schemas the routes use). */
export function openApiDocument(): object {
  const body = (schema: z.ZodType) => ({
    required: true,
    content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'any' }) } },
  });
  return {
    openapi: '3.0.3',
    info: {
      title: 'Concord customers-and-orders demo',
      version: '0.1.0',
      description: "Eventuate's customers-and-orders example on Concord: an order saga across a Customer and an Order service, with a CQRS order history.",
    },
    paths: {
      '/customers': {
        post: { summary: 'Create a customer', requestBody: body(CreateCustomerRequest), responses: { '200': json({ type: 'object', properties: { customerId: { type: 'integer' } } }), ...errors } },
        get: { summary: 'List customers', responses: { '200': json({ type: 'object', properties: { customers: { type: 'array', items: { type: 'object', properties: { customerId: { type: 'integer' }, name: { type: 'string' }, creditLimit: money } } } } }) } },
      },
      '/customers/{id}': {
        get: { summary: 'Get a customer and its available credit', parameters: [idParam('id')], responses: { '200': json({ type: 'object', properties: { customerId: { type: 'integer' }, name: { type: 'string' }, creditLimit: money, availableCredit: money } }), ...errors } },
      },
      '/customers/{id}/orderhistory': {
        get: { summary: 'The order history view (CQRS), eventually consistent; compare `version` to detect a stale read', parameters: [idParam('id')], responses: { '200': json({ type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' }, creditLimit: money, orders: { type: 'object', additionalProperties: { type: 'object', properties: { orderId: { type: 'integer' }, state: { type: 'string' }, orderTotal: money } } }, version: { type: 'integer' } } }), ...errors } },
      },
      '/orders': {
        post: {
          summary: 'Create an order: answers at once with the order PENDING; the saga decides APPROVED or REJECTED',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 190 }, description: 'The same key again returns the same orderId and creates nothing.' }],
          requestBody: body(CreateOrderRequest),
          responses: { '200': json({ type: 'object', properties: { orderId: { type: 'integer' } } }), ...errors },
        },
        get: { summary: 'List orders', responses: { '200': json({ type: 'object', properties: { orders: { type: 'array', items: order } } }) } },
      },
      '/orders/{id}': {
        get: { summary: 'Get an order', parameters: [idParam('id')], responses: { '200': json({ ...order, properties: { ...order.properties, version: { type: 'integer' } } }), ...errors } },
      },
      '/orders/{id}/events': {
        get: { summary: "Server-sent events with the order's state changes until it is final", parameters: [idParam('id')], responses: { '200': { description: 'text/event-stream of `order` events' }, ...errors } },
      },
      '/orders/{id}/cancel': {
        post: { summary: 'Cancel an APPROVED order (its credit is released)', parameters: [idParam('id')], responses: { '200': json({ type: 'object', properties: { orderId: { type: 'integer' }, orderState: { type: 'string' } } }), '409': json(error, 'The order is PENDING (its saga holds it) or already final'), ...errors } },
      },
      '/sagas/{id}': {
        get: { summary: 'A saga instance with its step history (e.g. create-order-1)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': json({ type: 'object' }), ...errors } },
      },
    },
  };
}
