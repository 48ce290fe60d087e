import Basics

/// A failed system call on the segment file: the call, the file's path and errno.
public typealias SegmentError = SystemCallError
