// SPDX-License-Identifier: Apache-2.0
#include <tomato/transport/iothreadpool_p.h>

#include <tomato/core/tsan_p.h>

#include <QtCore/QCoreApplication>

#include <dlfcn.h>

namespace Tomato {

namespace {

// OpenSSL keeps per-thread state (random generators, the error queue) that it frees from a
// thread-exit handler. Qt threads are detached: QThread::wait() returns before that handler
// has run, so a process exiting right after stopping its pool could still hold the state
// (LeakSanitizer saw it). Free it while the thread is certainly alive. Qt loads OpenSSL at
// run time, so look it up only when it is loaded.
void releaseOpenSslThreadState()
{
    void *crypto = ::dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD);
    if (!crypto)
        return;
    if (void *stop = ::dlsym(crypto, "OPENSSL_thread_stop"))
        reinterpret_cast<void (*)()>(stop)();
    ::dlclose(crypto);
}

class IoThread final : public QThread
{
protected:
    void run() override
    {
        exec();
        releaseOpenSslThreadState();
        tomatoTsanRelease(this); // acquired after wait(): QThread's join is Qt's (core/tsan_p.h)
    }
};

} // namespace

IoThreadPool::IoThreadPool(int threads, const QString &namePrefix)
{
    for (int i = 0; i < qMax(1, threads); ++i) {
        auto *t = new IoThread;
        t->setObjectName(namePrefix + QString::number(i));
        auto *context = new QObject;
        context->moveToThread(t);
        t->start();
        m_threads.append(t);
        m_contexts.append(context);
    }
}

IoThreadPool::~IoThreadPool()
{
    stop();
}

void IoThreadPool::stop()
{
    for (QThread *t : std::as_const(m_threads)) {
        t->quit();
        t->wait();
        tomatoTsanAcquire(t);
        delete t;
    }
    qDeleteAll(m_contexts);
    m_contexts.clear();
    m_threads.clear();
}

QThread *IoThreadPool::next()
{
    const unsigned i = m_next.fetch_add(1, std::memory_order_relaxed);
    return m_threads.at(int(i % unsigned(m_threads.size())));
}

QObject *IoThreadPool::context(const QThread *thread) const
{
    const qsizetype i = m_threads.indexOf(const_cast<QThread *>(thread));
    return i < 0 ? nullptr : m_contexts.at(i);
}

void runOnThread(QObject *context, const std::function<void()> &f)
{
    if (QThread::currentThread() == context->thread()) {
        f();
        return;
    }
    // Both ways ordered for ThreadSanitizer, which cannot see Qt's hand-off (core/tsan_p.h).
    int token = 0;
    tomatoTsanRelease(&token);
    QMetaObject::invokeMethod(context, [&f, &token] {
        tomatoTsanAcquire(&token);
        f();
        tomatoTsanRelease(&token);
    }, Qt::BlockingQueuedConnection);
    tomatoTsanAcquire(&token);
}

} // namespace Tomato
