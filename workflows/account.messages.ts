/** Messages of account DR's workflows: the progress query (approval and control: the kit's messages). */
import type { AccountProgress } from '../domain/account-dr.js';
import { progressQuery } from './kit/control.messages.js';

export const accountProgressQuery = progressQuery<AccountProgress>();
