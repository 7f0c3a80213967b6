import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { upcastFrom } from '../message/message-versions.js';
import { defineCommand, replyBuilder } from './command-definition.js';
import { replyVersionOf, upcastReplyBody, versionedReply } from './reply-versions.js';

const HeldV2 = z.object({ holdId: z.string(), until: z.number() });
const held = versionedReply(HeldV2, upcastFrom<{ holdId: string }>().then((v1) => ({ ...v1, until: 0 })));

describe('reply versions', () => {
  it('numbers a versioned reply 1 + its upcasters, and a plain one 1', () => {
    expect(replyVersionOf(held)).toBe(2);
    expect(replyVersionOf(z.object({}))).toBe(1);
    expect(replyVersionOf(undefined)).toBe(1);
  });

  it('upcasts an older body, passes the current one, and refuses a newer one with the reason', () => {
    expect(upcastReplyBody('t.Hold reply Held', held, { holdId: 'h1' }, 1)).toEqual({ holdId: 'h1', until: 0 });
    expect(upcastReplyBody('t.Hold reply Held', held, { holdId: 'h1' }, undefined)).toEqual({ holdId: 'h1', until: 0 });
    expect(upcastReplyBody('t.Hold reply Held', held, { holdId: 'h1', until: 5 }, 2)).toEqual({ holdId: 'h1', until: 5 });
    expect(() => upcastReplyBody('t.Hold reply Held', held, {}, 3)).toThrow(
      'schemaVersion 3 is newer than this consumer knows (2) for t.Hold reply Held',
    );
  });

  it('keeps replies typed: the builder takes the current shape, the chain must end at it', () => {
    const Hold = defineCommand('t.Hold', { channel: 'c', schema: z.object({ id: z.string() }), replies: { Held: held } });
    const reply = replyBuilder(Hold.replies);
    expect(reply.Held({ holdId: 'h', until: 1 })).toEqual({ reply: 'Held', payload: { holdId: 'h', until: 1 } });
    // @ts-expect-error -- the current version needs `until`
    reply.Held({ holdId: 'h' });
    // @ts-expect-error -- a chain that does not end at the schema does not compile
    versionedReply(HeldV2, upcastFrom<{ holdId: string }>().then((v1) => v1));
  });
});
