/**
 * Long actions started from the page (redrive, replay) run as jobs: the POST
 * answers at once with the job's id, the page polls `GET /console/api/jobs/<id>`
 * for its progress, fed by the operation's own Progress callback
 * (local/ops/progress.ts), and finally its result or error.
 */
import { randomUUID } from "crypto";
import type { Progress } from "../ops/progress";

export interface JobView {
    readonly id: string;
    readonly kind: string;
    /** What the job works on, e.g. `redrive acme`. */
    readonly title: string;
    readonly state: "running" | "done" | "failed";
    readonly startedAt: string;
    readonly finishedAt?: string;
    readonly done: number;
    readonly total: number;
    readonly note?: string;
    readonly result?: unknown;
    readonly error?: string;
}

interface Job {
    view: JobView;
}

export class Jobs {
    private readonly jobs = new Map<string, Job>();

    constructor(private readonly keep = 50) {}

    /** Start `work`; it reports through the Progress it is given. */
    start(kind: string, title: string, work: (progress: Progress) => Promise<unknown>): JobView {
        const id = randomUUID();
        const job: Job = { view: { id, kind, title, state: "running", startedAt: new Date().toISOString(), done: 0, total: 0 } };
        this.jobs.set(id, job);
        const progress: Progress = {
            update: (done, total, note) => void (job.view = { ...job.view, done, total, note: note || undefined }),
            finish: () => undefined,
        };
        work(progress).then(
            (result) => void (job.view = { ...job.view, state: "done", finishedAt: new Date().toISOString(), result }),
            (err: Error) => void (job.view = { ...job.view, state: "failed", finishedAt: new Date().toISOString(), error: `${err?.name ?? "Error"}: ${err?.message ?? String(err)}` }),
        );
        this.trim();
        return job.view;
    }

    get(id: string): JobView | undefined {
        return this.jobs.get(id)?.view;
    }

    /** Newest first. */
    list(): JobView[] {
        return [...this.jobs.values()].map((j) => j.view).reverse();
    }

    private trim(): void {
        const finished = [...this.jobs.entries()].filter(([, j]) => j.view.state !== "running");
        while (this.jobs.size > this.keep && finished.length) this.jobs.delete(finished.shift()![0]);
    }
}
