#include <tomato/transport/iothreadpool_p.h>

#include <QtCore/QCoreApplication>

namespace Tomato {

IoThreadPool::IoThreadPool(int threads, const QString &namePrefix)
{
    for (int i = 0; i < qMax(1, threads); ++i) {
        auto *t = new QThread;
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
    if (QThread::currentThread() == context->thread())
        f();
    else
        QMetaObject::invokeMethod(context, f, Qt::BlockingQueuedConnection);
}

} // namespace Tomato
