import { isCheckout } from '../../util/packageRoot.ts';

// How the user runs simplechrome, for the usage lines and for the commands that messages tell them to type
// next (continue with: … --resume DIR): `tsx run.ts` in a checkout, `simplechrome` once installed with npm,
// where there is no run.ts to run.

/** The command in usage lines and --help. */
export const COMMAND = isCheckout() ? 'tsx run.ts' : 'simplechrome';

/** The command as typed in a shell, in a message's advice: a checkout's tsx is run through npx. */
export const COMMAND_TO_TYPE = isCheckout() ? 'npx tsx run.ts' : 'simplechrome';
