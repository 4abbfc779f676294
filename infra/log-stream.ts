/**
 * The log table's DynamoDB Stream: ONE setting for every consumer of it. A table has one stream
 * with one view type, so consumers share it: the push-subscription dispatcher needs keys only
 * (which partition got a new batch; it reads the records from the table as a consumer would).
 * A consumer that needs the items themselves changes this to NEW_IMAGE for all — the dispatcher
 * works with either (it reads only `Keys`). DynamoDB advises at most two Lambda consumers
 * (event source mappings) per stream: count them here.
 */
import { StreamViewType } from "aws-cdk-lib/aws-dynamodb";

export const LOG_TABLE_STREAM_VIEW_TYPE: StreamViewType = StreamViewType.KEYS_ONLY;

/** Who reads the log table's stream (documentation, and a guard against a third consumer). */
export const LOG_STREAM_CONSUMERS = ["dispatcher"] as const;
