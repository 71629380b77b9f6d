// Talking to Stash: GraphQL through the app's own Apollo client when Stash offers it, else a
// plain POST to `graphql` resolved against `<base href>` — never a hard-coded `/graphql`, which
// breaks behind a reverse proxy that serves Stash under a sub-path.
import { api, stashUrl } from "./host";

/** A GraphQL error (or a failed request) with the message Stash gave, ready to show. */
export class StashError extends Error {}

function messageOf(error: unknown): string {
  const e = error as { graphQLErrors?: { message?: string }[]; networkError?: { message?: string; result?: any }; message?: string };
  if (e && e.graphQLErrors && e.graphQLErrors.length) {
    return e.graphQLErrors.map((g) => g.message || "").join("; ");
  }
  const fromResult = e && e.networkError && e.networkError.result && e.networkError.result.errors;
  if (Array.isArray(fromResult) && fromResult.length) {
    return fromResult.map((g: { message?: string }) => g.message || "").join("; ");
  }
  return (e && e.message) || String(error);
}

async function request(document: string, variables: Record<string, unknown>, isMutation: boolean): Promise<any> {
  const client = api && api.utils && api.utils.StashService && api.utils.StashService.getClient
    ? api.utils.StashService.getClient()
    : undefined;
  const gql = api && api.libraries.Apollo && api.libraries.Apollo.gql;
  try {
    if (client && gql) {
      const parsed = gql(document);
      const result = isMutation
        ? await client.mutate({ mutation: parsed, variables, fetchPolicy: "no-cache" })
        : await client.query({ query: parsed, variables, fetchPolicy: "no-cache" });
      return result.data;
    }
    const response = await fetch(stashUrl("graphql"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: document, variables }),
    });
    const text = await response.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      throw new StashError(`Stash answered HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    if (body.errors && body.errors.length) {
      throw new StashError(body.errors.map((e: { message?: string }) => e.message || "").join("; "));
    }
    return body.data;
  } catch (error) {
    throw error instanceof StashError ? error : new StashError(messageOf(error));
  }
}

const PLUGIN_ID = "stashhog";

const RUN_OPERATION = `mutation StashHogOperation($plugin_id: ID!, $args: Map) {
  runPluginOperation(plugin_id: $plugin_id, args: $args)
}`;

/** Runs a quick StashHog operation (`runPluginOperation`) and returns its output. */
export async function operation<T>(mode: string, args: Record<string, unknown> = {}): Promise<T> {
  const data = await request(RUN_OPERATION, { plugin_id: PLUGIN_ID, args: { ...args, mode } }, true);
  return data.runPluginOperation as T;
}

const RUN_TASK = `mutation StashHogTask($plugin_id: ID!, $description: String, $args_map: Map) {
  runPluginTask(plugin_id: $plugin_id, description: $description, args_map: $args_map)
}`;

/** Queues a StashHog run as a Stash job (it survives the tab); returns the job's id. */
export async function task(mode: string, description: string, args: Record<string, unknown>): Promise<string> {
  const data = await request(RUN_TASK, { plugin_id: PLUGIN_ID, description, args_map: { ...args, mode } }, true);
  return String(data.runPluginTask);
}

/** A Stash job as `findJob` reports it. */
export interface Job {
  id: string;
  status: "READY" | "RUNNING" | "FINISHED" | "STOPPING" | "CANCELLED" | "FAILED";
  description: string;
  progress: number | null;
  error?: string | null;
}

// `error` exists from v0.26 on; asking for it on older Stash fails validation, so it is
// requested only after a first attempt shows the schema has it.
const FIND_JOB = (withError: boolean) => `query StashHogJob($input: FindJobInput!) {
  findJob(input: $input) { id status description progress${withError ? " error" : ""} }
  jobQueue { id status }
}`;

let jobErrorField = true;

/** The job and its place in Stash's queue (0 = running now); null when Stash forgot it. */
export async function findJob(id: string): Promise<{ job: Job | null; position: number }> {
  let data: any;
  try {
    data = await request(FIND_JOB(jobErrorField), { input: { id } }, false);
  } catch (error) {
    if (!jobErrorField) throw error;
    jobErrorField = false;
    data = await request(FIND_JOB(false), { input: { id } }, false);
  }
  const queue: { id: string; status: string }[] = data.jobQueue || [];
  const waiting = queue.filter((j) => j.status === "READY" || j.status === "RUNNING");
  return { job: data.findJob || null, position: waiting.findIndex((j) => String(j.id) === String(id)) };
}

const STOP_JOB = `mutation StashHogStopJob($job_id: ID!) { stopJob(job_id: $job_id) }`;

/** Cancels a job (Stash kills the process; StashHog resumes where it stopped next time). */
export async function stopJob(id: string): Promise<void> {
  await request(STOP_JOB, { job_id: id }, true);
}
