// SPDX-License-Identifier: Apache-2.0
#pragma once
// Happens-before edges for ThreadSanitizer (./run tsan) where our data crosses threads through
// Qt's own machinery, which it cannot see: Debian's libQt6Core is not built with
// -fsanitize=thread, so a blocking queued call or an event posted to another thread orders
// nothing as far as it knows. The sender calls tomatoTsanRelease(token) before handing over,
// the receiver tomatoTsanAcquire(token) before touching what it got. No-ops in other builds.
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
inline void tomatoTsanRelease(const void *token) { __tsan_release(const_cast<void *>(token)); }
inline void tomatoTsanAcquire(const void *token) { __tsan_acquire(const_cast<void *>(token)); }
#else
inline void tomatoTsanRelease(const void *) {}
inline void tomatoTsanAcquire(const void *) {}
#endif
