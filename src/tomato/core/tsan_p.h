// SPDX-License-Identifier: Apache-2.0
#pragma once
// Happens-before edges for ThreadSanitizer (./run tsan) where our data crosses threads through
// Qt's own machinery, which it cannot see: Debian's libQt6Core is not built with
// -fsanitize=thread, so a blocking queued call or an event posted to another thread orders
// nothing as far as it knows. The sender calls tomatoTsanRelease(token) before handing over,
// the receiver tomatoTsanAcquire(token) before touching what it got. No-ops in other builds.
//
// tomatoWait(condition, mutex, deadline) is QWaitCondition::wait() for our own mutexes: Qt's
// inline QMutex::lock()/unlock() tell ThreadSanitizer about the mutex, but wait() unlocks and
// relocks it inside libQt6Core, unseen, so what the waker wrote under the mutex looked
// unsynchronised to the waiter. It tells ThreadSanitizer about that unlock and relock.
#include <QtCore/QDeadlineTimer>
#include <QtCore/QMetaObject>
#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QWaitCondition>
#include <utility>
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
inline void tomatoTsanRelease(const void *token) { __tsan_release(const_cast<void *>(token)); }
inline void tomatoTsanAcquire(const void *token) { __tsan_acquire(const_cast<void *>(token)); }
inline bool tomatoWait(QWaitCondition &condition, QMutex &mutex, QDeadlineTimer deadline = QDeadlineTimer::Forever)
{
    __tsan_mutex_pre_unlock(&mutex, 0);
    __tsan_mutex_post_unlock(&mutex, 0);
    const bool woken = condition.wait(&mutex, deadline);
    __tsan_mutex_pre_lock(&mutex, 0);
    __tsan_mutex_post_lock(&mutex, 0, 0);
    return woken;
}
#else
inline void tomatoTsanRelease(const void *) {}
inline void tomatoTsanAcquire(const void *) {}
inline bool tomatoWait(QWaitCondition &condition, QMutex &mutex, QDeadlineTimer deadline = QDeadlineTimer::Forever)
{
    return condition.wait(&mutex, deadline);
}
#endif

// QMetaObject::invokeMethod(context, f, Qt::QueuedConnection), with the hand-off told to
// ThreadSanitizer: what the caller wrote before posting is visible to f.
template<typename F>
void tomatoPost(QObject *context, F &&f)
{
    tomatoTsanRelease(context);
    QMetaObject::invokeMethod(context, [context, fn = std::forward<F>(f)]() mutable {
        tomatoTsanAcquire(context);
        fn();
    }, Qt::QueuedConnection);
}
