import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../cli/plan-file.js';
import { decideTrigger } from '../../cli/recover-trigger.js';

const plan = parsePlanText(readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8')).plan!;

describe('decideTrigger on hostile event bodies', () => {
  it('a field whose `length` is no number (zod length checks throw on it) is a 400 naming the event, never an exception (was a 503: fuzz seed 834481715)', () => {
    const r = decideTrigger(plan, {
      version: { length: { toString: null } },
      id: 'x',
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
    });
    expect('answer' in r && r.answer.status).toBe(400);
  });
});
