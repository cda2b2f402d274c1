/** Tags of rules and event buses: TagResource, UntagResource, ListTagsForResource. */
import type { RequestContext } from '../types.js';
import type { Input, RegionState, Tag } from './model.js';
import type { Regions } from './regions.js';
import { deepCopy, notFound, parseTags, requireString } from './shared.js';

function taggable(rs: RegionState, arn: string): { Tags: Tag[] } {
  for (const bus of rs.buses) {
    if (bus.Arn === arn) return bus;
    const rule = bus.Rules.find((r) => r.Arn === arn);
    if (rule) return rule;
  }
  throw notFound(`Resource ${arn} does not exist.`);
}

export function tagResource(st: Regions, input: Input, ctx: RequestContext): unknown {
  const res = taggable(st.regionOf(ctx), requireString(input, 'ResourceARN'));
  for (const tag of parseTags(input.Tags)) {
    const existing = res.Tags.find((t) => t.Key === tag.Key);
    if (existing) existing.Value = tag.Value;
    else res.Tags.push(tag);
  }
  return {};
}

export function untagResource(st: Regions, input: Input, ctx: RequestContext): unknown {
  const res = taggable(st.regionOf(ctx), requireString(input, 'ResourceARN'));
  const keys = Array.isArray(input.TagKeys) ? input.TagKeys : [];
  res.Tags = res.Tags.filter((t) => !keys.includes(t.Key));
  return {};
}

export function listTagsForResource(st: Regions, input: Input, ctx: RequestContext): unknown {
  const res = taggable(st.regionOf(ctx), requireString(input, 'ResourceARN'));
  return { Tags: deepCopy(res.Tags) };
}
