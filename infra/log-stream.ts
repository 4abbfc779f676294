/**
 * The log table's DynamoDB Stream: ONE setting for every consumer of it. A table has one stream
 * with one view type, so consumers share it: the push-subscription dispatcher needs keys only
 * (which partition got a new batch; it reads the records from the table as a consumer would);
 * the notifier (infra/notifications.ts) filters on the new item's kind, so the view is NEW_IMAGE
 * (shared/storage/tables.ts, LOG_STREAM_VIEW) — the dispatcher works with either (it reads only
 * `Keys`). Reading a stream from Lambda costs nothing per request whatever the view. DynamoDB
 * advises at most two Lambda consumers (event source mappings) per stream: count them here.
 */
import { StreamViewType } from "aws-cdk-lib/aws-dynamodb";
import { LOG_STREAM_VIEW } from "../shared/storage/tables.js";

export const LOG_TABLE_STREAM_VIEW_TYPE: StreamViewType = StreamViewType[LOG_STREAM_VIEW];

/** Who reads the log table's stream (documentation, and a guard against a third consumer). */
export const LOG_STREAM_CONSUMERS = ["dispatcher", "notifier"] as const;
