module example.com/qtlib

go 1.25.0
