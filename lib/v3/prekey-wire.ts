// PROTOCOL-v3 §V3: the JSON of the prekey endpoints, one zod schema per object for both sides (the
// relay checks requests with them, the client checks answers and writes uploads).
import { z } from "zod";
import { Uid } from "../wire.ts";
import { NO_OPK_ID } from "./prekey.ts";

const SIG_B64U_CHARS = 86; // 64 bytes
const EK_B64_CHARS = 1580; // 1,184 bytes

/** {"id": u32 (never 0xFFFFFFFF), "pub": b64, "sig": b64u}; lengths per kind are checked by the relay. */
export const PrekeyObject = z.strictObject({
  id: z
    .number()
    .int()
    .min(0)
    .max(NO_OPK_ID - 1),
  pub: z.string().max(EK_B64_CHARS),
  sig: z.string().max(SIG_B64U_CHARS),
});
export type PrekeyObject = z.infer<typeof PrekeyObject>;

/** §V3.1: a publication of new prekeys. */
export const PrekeyUpload = z.strictObject({
  spk: PrekeyObject.optional(),
  pqspk: PrekeyObject.optional(),
  // Bounded by the JSON body limit already; a count past the store's limit is 413, not 400.
  opks: z.array(PrekeyObject).optional(),
  opqks: z.array(PrekeyObject).optional(),
});
export type PrekeyUpload = z.infer<typeof PrekeyUpload>;

/** §V3.1: a publication, or `{"clear": true}` alone. */
export const PublishBody = z.union([z.strictObject({ clear: z.literal(true) }), PrekeyUpload]);

/** §V3.3: whose bundle. */
export const BundleBody = z.strictObject({ uid: Uid });

const Count = z.number().int().min(0).max(1_000_000);
const PrekeyId = z
  .number()
  .int()
  .min(0)
  .max(NO_OPK_ID - 1);

/** §V3.1: the counts now stored. */
export const PrekeyCounts = z.object({ opks: Count, opqks: Count });

/** §V3.2: what the relay holds of the signer's bundle. */
export const PrekeyStatus = z.object({
  spk_id: PrekeyId.nullable(),
  pqspk_id: PrekeyId.nullable(),
  opks: Count,
  opqks: Count,
});
export type PrekeyStatus = z.infer<typeof PrekeyStatus>;
