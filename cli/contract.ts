/**
 * The request API's answers, as the CLI reads them: the API's own types, inferred from the zod schemas its
 * OpenAPI document is generated from. Imported as types only, so the CLI never loads the server's code.
 */
import type { AccountList, AccountView, DriftView, RequestAccepted } from '../functions/api/schemas.ts';

export type {
  DriftRecordView,
  DriftView,
  DryRunPlan,
  ErrorResponse,
  RequestAccepted,
  RequestView,
  StepView,
} from '../functions/api/schemas.ts';

/**
 * A vended account; `drift` is absent from APIs older than drift detection, and the CLI says so; `holdHistory`
 * from APIs older than holds.
 */
export type AccountAnswer = Omit<AccountView, 'drift' | 'holdHistory'> & {
  drift?: DriftView;
  holdHistory?: AccountView['holdHistory'];
};

/** A page of GET /accounts, its accounts as {@link AccountAnswer}. */
export type AccountPage = Omit<AccountList, 'accounts'> & { accounts: AccountAnswer[] };

/** The 202 to POST /accounts. */
export type Accepted = RequestAccepted;
