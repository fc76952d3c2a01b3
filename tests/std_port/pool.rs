// A small std worker pool, written against `std::sync`: the file that
// includes it chooses the import line, and nothing else changes.

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

pub struct Pool {
    shared: Arc<(Mutex<Queue>, Condvar)>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    pub fn new(n: usize) -> Pool {
        let queue = Queue {
            jobs: VecDeque::new(),
            closed: false,
        };
        let shared = Arc::new((Mutex::new(queue), Condvar::new()));
        let workers = (0..n)
            .map(|_| {
                let shared = Arc::clone(&shared);
                spawn(move || {
                    loop {
                        let (lock, more) = &*shared;
                        let queue = lock.lock().unwrap();
                        let mut queue = more
                            .wait_while(queue, |q| q.jobs.is_empty() && !q.closed)
                            .unwrap();
                        let Some(job) = queue.jobs.pop_front() else {
                            return;
                        };
                        drop(queue);
                        job();
                    }
                })
            })
            .collect();
        Pool { shared, workers }
    }

    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let (lock, more) = &*self.shared;
        lock.lock().unwrap().jobs.push_back(Box::new(job));
        more.notify_one();
    }

    pub fn join(self) {
        let (lock, more) = &*self.shared;
        lock.lock().unwrap().closed = true;
        more.notify_all();
        for w in self.workers {
            w.join().unwrap();
        }
    }
}

/// Runs `n` jobs on the pool and waits (with a timeout, as std code does)
/// until they all ran; returns how many did.
pub fn run(n: usize) -> usize {
    let pool = Pool::new(4);
    let done = Arc::new((Mutex::new(0usize), Condvar::new()));
    for _ in 0..n {
        let done = Arc::clone(&done);
        pool.execute(move || {
            let (count, cv) = &*done;
            *count.lock().unwrap() += 1;
            cv.notify_all();
        });
    }
    let (count, cv) = &*done;
    let (count_now, timeout) = cv
        .wait_timeout_while(count.lock().unwrap(), Duration::from_secs(20), |c| *c < n)
        .unwrap();
    assert!(!timeout.timed_out());
    let ran = *count_now;
    drop(count_now);
    pool.join();
    ran
}
